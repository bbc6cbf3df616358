"""Stand-ins for what peerdigest talks to over the network (an LLM endpoint), for tests and `make bench`.

Shipped in the package rather than under tests/ because the benchmark harness
uses them too and must not import the test suite. Nothing in the application
imports this package.
"""
