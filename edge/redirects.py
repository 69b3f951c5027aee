"""Where the store may send a shopper after a page (login's `next`): only ever a path of the store.

`safe_path` answers the path itself when it can only mean this store, else "/". Refused: anything
not starting with one "/" (`//host` and `/\\host` are other sites to a browser, which also reads
a backslash as a slash), backslashes, control characters and whitespace (a browser drops tabs and
newlines from a URL, so `/\\t/host` becomes `//host`), a scheme or a host (whatever urlsplit
finds), checked both as given and once more percent-decoded. What passes is percent-encoded
outside the URL's own punctuation, so that no later step (a template's `{name}` placeholders in
forms.js) can rewrite it.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

HOME = "/"
# The URL's own punctuation and already-encoded sequences stay; braces, quotes, spaces do not.
_KEEP = "/?#&=%:@!$'()*+,;-._~[]"


def _one_path(value: str) -> bool:
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return False
    if any(char.isspace() or unicodedata.category(char)[0] in "CZ" for char in value):
        return False
    parts = urlsplit(value)
    return not parts.scheme and not parts.netloc


def safe_path(next_url: str | None) -> str:
    """`next_url` when it is a path of this store, else "/"."""
    if not next_url or not _one_path(next_url) or not _one_path(unquote(next_url)):
        return HOME
    return quote(next_url, safe=_KEEP)
