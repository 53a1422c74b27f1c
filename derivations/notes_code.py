"""The code the notes print, to be run exactly as printed (CLAIMS.md D11, E11).

Each statement names a seed file and a pattern that finds the code in its text; the check runs what the
pattern matches in a fresh interpreter, adding nothing and repairing nothing.
"""

from __future__ import annotations

from derivations.activation_facts import S003, S004
from derivations.model import Claim, Source

CLAIMS = (
    Claim(
        name="init_line_runs_as_printed",
        title="the initialisation line w[1]=np.random.randn((2,2))0.01 as printed",
        source=Source(S003, "2.5 随机初始化参数", "w[1]=np.random.randn((2,2))0.01", ("D11",)),
        method="numerical",
        # The code as the seed text prints it, found by this pattern; nothing is added or repaired.
        statement={"seed": S003, "pattern": r"w\[1\]=\S+"},
    ),
    Claim(
        name="inception_code_runs_as_printed",
        title="the Inception and Net code blocks run as printed",
        source=Source(S004, "Inception Module 代码", "class Inception(torch.nn.Module): ... model=Net()", ("E11",)),
        method="numerical",
        statement={"seed": S004, "pattern": r"(?ms)^class Inception\(torch\.nn\.Module\):$.*?^model=Net\(\)$"},
    ),
)
