"""Schemathesis hooks for Scripts/api-fuzz.sh.

A page token is opaque: only the server makes one (the next_page_token of a page), and any other
text is refused with INVALID_ARGUMENT, as the document says. A fuzzer cannot make a valid one,
so it asks for the first page.
"""
import schemathesis
from hypothesis import strategies as st

schemathesis.openapi.format("forge-page-token", st.just(""))
