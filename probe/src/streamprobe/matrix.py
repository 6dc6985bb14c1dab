"""The doctor's matrix vocabulary: its rows (protocols), columns (encodings) and the state of a cell.

Shared by the doctor (which fills the matrix), the diagnosis (which reads it) and the output.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from .result import ProbeResult, ProtocolLabel, Verdict

#: The doctor's rows: each protocol probed on its own (``h2``, ``h3`` required, not merely offered).
HttpRow = Literal["h1", "h2", "h3"]
#: The doctor's columns: no compression asked for, or compression asked for like a browser.
Encoding = Literal["identity", "compressed"]
#: A cell: the probe's verdict, "not offered" when the server does not speak that protocol, or
#: "skipped" when it was not probed because the connection itself had already failed.
CellState = Verdict | Literal["not offered", "skipped"]
#: The rows always probed; ``h3`` is added when advertised or asked for.
BASE_ROWS: Final[tuple[HttpRow, ...]] = ("h1", "h2")
ROWS: Final[tuple[HttpRow, ...]] = get_args(HttpRow)
ENCODINGS: Final[tuple[Encoding, ...]] = get_args(Encoding)
ROW_LABELS: Final[dict[HttpRow, ProtocolLabel]] = {"h1": "HTTP/1.1", "h2": "HTTP/2", "h3": "HTTP/3"}
BAD: Final[tuple[Verdict, ...]] = ("partial", "buffered")
Cell = tuple[HttpRow, Encoding]


def not_offered(result: ProbeResult, http: HttpRow) -> bool:
    """HTTP/2 or HTTP/3 required but not to be had (not negotiated; for HTTP/3 also no UDP answer):
    a fact about the server or the network path, not a fault."""
    return (
        http in ("h2", "h3")
        and result.error is not None
        and result.error.kind == "protocol"
        and result.status is None
    )


def cell_state(result: ProbeResult, http: HttpRow) -> CellState:
    return "not offered" if not_offered(result, http) else result.verdict
