"""An in-memory LRU of restored specs, keyed by process version id."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from SpiffWorkflow.bpmn.specs import BpmnProcessSpec

from app.engine.serializer import spec_from_json

SpecBundle = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


class SpecCache:
    def __init__(self, capacity: int = 256) -> None:
        self._capacity = capacity
        self._items: OrderedDict[int, SpecBundle] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version_id: int, load_json: Callable[[], str]) -> SpecBundle:
        with self._lock:
            bundle = self._items.get(version_id)
            if bundle is not None:
                self._items.move_to_end(version_id)
                return bundle
        bundle = spec_from_json(load_json())
        with self._lock:
            self._items[version_id] = bundle
            self._items.move_to_end(version_id)
            while len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return bundle

    def __len__(self) -> int:
        return len(self._items)
