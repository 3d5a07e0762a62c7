"""AIR-id serialization: the constraint DAG as canonical bytes, bound into every proof.

The AIR id (:attr:`proofmarket.stark.air.Air.air_id`) hashes the AIR's name, widths,
instance tag and these bytes, so a proof for one constraint system never verifies for
another, even under the same name.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

from proofmarket.stark.expr import Group, topological_order

if TYPE_CHECKING:
    from proofmarket.stark.air import Constraint

_OPS = {
    "const": 0,
    "col": 1,
    "pub": 2,
    "chal": 3,
    "add": 4,
    "sub": 5,
    "mul": 6,
    "neg": 7,
    "inv": 8,
}
_GROUPS = {Group.MAIN: 0, Group.PREPROCESSED: 1, Group.AUX: 2}
_KINDS = {"transition": 0, "every_row": 1, "row": 2}


def serialize_constraints(constraints: Sequence[Constraint]) -> bytes:
    """Nodes in topological order (op, operands by index), then (root, kind, row) each."""
    nodes = topological_order([c.expr for c in constraints])
    index = {id(n): k for k, n in enumerate(nodes)}
    out = bytearray(struct.pack("<I", len(nodes)))
    for n in nodes:
        out.append(_OPS[n.op])
        if n.op == "col":
            g, i, nxt = n.data
            out += struct.pack("<BIB", _GROUPS[g], i, int(nxt))
        elif n.op in ("const", "pub", "chal"):
            out += struct.pack("<I", n.data)
        for a in n.args:
            out += struct.pack("<I", index[id(a)])
    out += struct.pack("<I", len(constraints))
    for c in constraints:
        row = 0 if c.row is None else c.row
        out += struct.pack("<IBi", index[id(c.expr)], _KINDS[c.kind.value], row)
    return bytes(out)
