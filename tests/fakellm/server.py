"""Moved to devstack/fakellm.py (shared with the benchmarks and scripts); kept for old imports."""

from devstack.fakellm import Call, FakeLlm, FakeState, create_app, main

__all__ = ["Call", "FakeLlm", "FakeState", "create_app", "main"]

if __name__ == "__main__":
    main()
