"""The code the notes print, to be run exactly as printed (CLAIMS.md C2, D11, E8, E11).

Each statement names a seed file and a pattern that finds the code in its text; the check runs what the
pattern matches in a fresh interpreter, adding nothing and repairing nothing. The scraped text lost every
indentation; where a claim is about what a program does once that is restored, its statement carries the
`Reading` it runs under, and the reading is said in the claim's interpretation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from derivations.activation_facts import S003, S004
from derivations.model import Claim, Source
from derivations.optimisers import WORKED_EXAMPLE


@dataclass(frozen=True)
class Reading:
    """What is read into printed code whose text was damaged; the printed text is otherwise kept.

    `indent`: one digit per printed line, its indentation level (four spaces a level); spaces between digits
    only group them (in tens below, to count lines by). Empty: the lines keep their own indentation.
    `prelude`: lines put before the code. `edits`: (as printed, as read) replacements within lines.
    """

    summary: str
    indent: str = ""
    prelude: tuple[str, ...] = ()
    edits: tuple[tuple[str, str], ...] = ()

    def levels(self) -> list[int] | None:
        digits = self.indent.replace(" ", "")
        return [int(d) for d in digits] if digits else None

    def describe(self) -> str:
        return self.summary + "".join(f"; with {line!r} put before it" for line in self.prelude)


# 004 lines 479-516: the hand-gradient program. The functions return after their loops (loss/len(xs) is the
# mean over the data); the five lines after `for epoch` are the epoch's body; the plot comes after training.
GD_READING = Reading(
    "with the indentation the text lost restored: each def and for body one level in, the functions "
    "returning after their loops, the plot after the training loop",
    "0000000010 0001122100 0011210001 11110000",
)
# 004 lines 1791-1824: the autograd program. The progress line and the two appends are the epoch's (after the
# loop over the samples); the last print and the plot come after training.
SGD_READING = Reading(
    "with the indentation the text lost restored: each def and for body one level in, the progress print and "
    "the appends in the epoch loop after the loop over the samples, the last print and the plot after training",
    "0000000010 0000110000 1222221110 0000",
)
# 004 lines 1965-2072: Inception and Net, each method's body (comments and docstrings included) two levels in.
INCEPTION_READING = Reading(
    "with the indentation the text lost restored (each method's body inside its class)",
    "0122222222 2222221222 2222222222 2201222222 2222222222 2222222222 2222222222 2222122222 2222222222 "
    "2222222222 22222220",
)
# 004 lines 2347-2364: ResidualBlock.
RESIDUAL_READING = Reading(
    "with the indentation the text lost restored (each method's body inside its class)", "0122221222 22222222"
)
INIT_READING = Reading(
    "with 'randn((2,2))0.01' as 'randn(2,2)*0.01' (the text lost the '*', and randn takes its sizes as "
    "separate integers)",
    edits=(("randn((2,2))0.01", "randn(2,2)*0.01"),),
)

GD_PROGRAM = r"(?ms)^import matplotlib\.pyplot as plt\nx_data=.*?^plt\.show\(\)$"
SGD_PROGRAM = r"(?ms)^import matplotlib\.pyplot as plt\nimport torch$.*?^plt\.show\(\)$"
PLOTTING = (
    "matplotlib is not a dependency: the program imports gradproof's stand-in for matplotlib.pyplot, which "
    "records each call and draws nothing; plot() first turns its data into float arrays as matplotlib does "
    "(np.atleast_1d on a list), so data matplotlib cannot take fails the same way"
)


def _printed(seed: str, pattern: str, reading: Reading) -> dict[str, Any]:
    return {"seed": seed, "pattern": pattern, "reading": reading}


def _reported(reading: Reading) -> str:
    return f"the verdict is on the code as printed; the corrected statement runs it read {reading.summary}"


CLAIMS = (
    Claim(
        name="init_line_runs_as_printed",
        title="the initialisation line w[1]=np.random.randn((2,2))0.01 as printed",
        source=Source(S003, "2.5 随机初始化参数", "w[1]=np.random.randn((2,2))0.01", ("D11",)),
        method="numerical",
        interpretation=_reported(INIT_READING),
        # The code as the seed text prints it, found by this pattern; nothing is added or repaired.
        statement=_printed(S003, r"w\[1\]=\S+", INIT_READING),
    ),
    Claim(
        name="inception_code_runs_as_printed",
        title="the Inception and Net code blocks run as printed",
        source=Source(S004, "Inception Module 代码", "class Inception(torch.nn.Module): ... model=Net()", ("E11",)),
        method="numerical",
        interpretation=_reported(INCEPTION_READING),
        statement=_printed(S004, r"(?ms)^class Inception\(torch\.nn\.Module\):$.*?^model=Net\(\)$", INCEPTION_READING),
    ),
    Claim(
        name="residual_code_runs_as_printed",
        title="the ResidualBlock code block runs as printed",
        source=Source(S004, "resblock 代码", "class ResidualBlock(torch.nn.Module): ... return F.relu(x+y)", ("E8",)),
        method="numerical",
        interpretation=_reported(RESIDUAL_READING),
        statement=_printed(
            S004, r"(?ms)^class ResidualBlock\(torch\.nn\.Module\):$.*?^return F\.relu\(x\+y\)$", RESIDUAL_READING
        ),
    ),
    Claim(
        name="gd_program_runs_as_printed",
        title="the worked example's hand-gradient program runs as printed",
        source=Source(
            S004, "梯度下降 代码", "import matplotlib.pyplot as plt ... grad+=2*x*(x*w-y) ... plt.show()", ("C2",)
        ),
        method="numerical",
        interpretation=f"{PLOTTING}; {_reported(GD_READING)}",
        statement=_printed(S004, GD_PROGRAM, GD_READING),
    ),
    Claim(
        name="sgd_program_runs_as_printed",
        title="the worked example's autograd program runs as printed",
        source=Source(S004, "梯度下降 代码", "import torch ... l.backward() ... plt.show()", ("C2",)),
        method="numerical",
        interpretation=f"{PLOTTING}; {_reported(SGD_READING)}",
        statement=_printed(S004, SGD_PROGRAM, SGD_READING),
    ),
    Claim(
        name="gd_program_loss_plot",
        title="the hand-gradient program plots the loss of each epoch against the epoch (plt.plot(epoch_list, "
        "loss_list))",
        source=Source(S004, "梯度下降 代码", "loss_list.append(l); plt.plot(epoch_list, loss_list)", ("C2",)),
        method="numerical",
        interpretation=f"run {GD_READING.summary} (as printed it does not run: gd_program_runs_as_printed). "
        f"{PLOTTING}. The reading matters here: plt.plot inside the epoch loop would plot 100 growing lists; read "
        "after it, as the plotting of the finished lists. The axis labels 'epoch' and 'losss' read as epoch and "
        "loss ('losss': one s too many)",
        statement={
            "seed": S004,
            "pattern": GD_PROGRAM,
            "restore": GD_READING,
            "axes": ("epoch", "loss"),
            "example": WORKED_EXAMPLE,
        },
    ),
    Claim(
        name="sgd_program_loss_plot",
        title="the autograd program plots the loss of each epoch against the epoch (plt.plot(epoch_list, loss_list))",
        source=Source(S004, "梯度下降 代码", "loss_list.append(l); plt.plot(epoch_list, loss_list)", ("C2",)),
        method="numerical",
        interpretation=f"run {SGD_READING.summary} (as printed it does not run: sgd_program_runs_as_printed). "
        f"{PLOTTING}. The loss of an epoch is what the program keeps: l, the loss of the epoch's last sample "
        "before its update. The finding does not hang on the reading: however it is indented, plt.plot runs at "
        "least once after loss_list.append(l), with a tensor that requires grad in the list",
        statement={
            "seed": S004,
            "pattern": SGD_PROGRAM,
            "restore": SGD_READING,
            "axes": ("epoch", "loss"),
            "example": WORKED_EXAMPLE,
        },
    ),
    Claim(
        name="sgd_program_predict_labels",
        title="the autograd program's lines labelled 'predict (before training)' print the prediction at 4 "
        "before training",
        source=Source(S004, "梯度下降 代码", 'print("predict (before training)",4,forward(4).item())', ("C2",)),
        method="numerical",
        interpretation=f"run {SGD_READING.summary} (as printed it does not run: sgd_program_runs_as_printed); "
        "before training: w still its initial value, so the line prints 4·w0. The finding does not hang on the "
        "reading: wherever line 1820 is indented, it runs after line 1815's update",
        statement={
            "seed": S004,
            "pattern": SGD_PROGRAM,
            "restore": SGD_READING,
            "labels": {"predict (before training)": "before"},
            "example": WORKED_EXAMPLE,
        },
    ),
)
