"""Student answers the graders are tested on: plain modules exposing functions by contract name.

correct_*: right answers written differently from the reference (must get full marks);
mistake_<id>: one known mistake of docs/CONTRACT.md each (must be tagged with exactly that id);
slow_* / memo_*: right but too slow, or caching their results (must fail timing only).
"""
