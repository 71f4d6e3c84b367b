"""In-memory LRU caches of things restored from the database, keyed by version id."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec

from app.engine.serializer import spec_from_json

K = TypeVar("K")
V = TypeVar("V")
SpecBundle = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


class LRUCache(Generic[K, V]):
    """Thread-safe; a miss calls `load` outside the lock (two threads may both load once)."""

    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, load: Callable[[], V]) -> V:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = load()
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._items)


class SpecCache(LRUCache[int, SpecBundle]):
    """Restored process specs by process version id."""

    def spec(self, version_id: int, load_json: Callable[[], str]) -> SpecBundle:
        return self.get(version_id, lambda: spec_from_json(load_json()))
