import gc

from backend.core.heap import YOUNG_THRESHOLD, tune_garbage_collector


def test_objects_alive_at_startup_are_left_out_of_full_collections():
    gc.unfreeze()
    threshold = gc.get_threshold()
    startup: list[list[int]] = [[] for _ in range(1000)]
    try:
        tune_garbage_collector()
        assert gc.get_freeze_count() >= 1000
        assert not any(o is startup for o in gc.get_objects())  # what a collection walks
        made_later: list[list[int]] = [[]]
        assert any(o is made_later for o in gc.get_objects())
        assert gc.get_threshold()[0] == YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
