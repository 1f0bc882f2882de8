import gc

from backend.core.heap import freeze_startup_objects


def test_objects_alive_at_startup_are_left_out_of_full_collections():
    gc.unfreeze()
    startup: list[list[int]] = [[] for _ in range(1000)]
    try:
        freeze_startup_objects()
        assert gc.get_freeze_count() >= 1000
        assert not any(o is startup for o in gc.get_objects())  # what a collection walks
        made_later: list[list[int]] = [[]]
        assert any(o is made_later for o in gc.get_objects())
    finally:
        gc.unfreeze()
