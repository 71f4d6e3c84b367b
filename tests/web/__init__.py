"""Tests of the browser pages and their form handling."""
