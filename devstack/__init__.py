"""The development stack, started the same way by tests, benchmarks and scripts: the API in a
child process (uvicorn or gunicorn), the scripted fake LLM, and the small process helpers they
share. Never imported by the service itself and not copied into the production image."""
