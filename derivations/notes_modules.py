"""The notes' torch modules, as seed 004 writes them: Inception, Net and ResidualBlock (E6-E8).

torch is imported when a module is built, so that reading the catalog stays light.
"""

from __future__ import annotations

from typing import Any


def inception(in_channels: int) -> Any:
    import torch
    import torch.nn.functional as F

    class Inception(torch.nn.Module):
        def __init__(self, in_channels: int) -> None:
            super().__init__()
            self.branch1x1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch5x5_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch5x5_2 = torch.nn.Conv2d(16, 24, kernel_size=5, padding=2)
            self.branch3x3_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
            self.branch3x3_2 = torch.nn.Conv2d(16, 24, kernel_size=3, padding=1)
            self.branch3x3_3 = torch.nn.Conv2d(24, 24, kernel_size=3, padding=1)
            self.branch_pool = torch.nn.Conv2d(in_channels, 24, kernel_size=1)

        def branches(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
            return {
                "branch1x1": self.branch1x1(x),
                "branch5x5": self.branch5x5_2(self.branch5x5_1(x)),
                "branch3x3": self.branch3x3_3(self.branch3x3_2(self.branch3x3_1(x))),
                "branch_pool": self.branch_pool(F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)),
            }

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.cat(list(self.branches(x).values()), dim=1)

    return Inception(in_channels)


def net() -> Any:
    import torch
    import torch.nn.functional as F

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
            self.conv2 = torch.nn.Conv2d(88, 20, kernel_size=5)
            self.incept1 = inception(in_channels=10)
            self.incept2 = inception(in_channels=20)
            self.max_pooling = torch.nn.MaxPool2d(2)
            self.full_conn = torch.nn.Linear(1408, 10)

        def forward(self, x_data: torch.Tensor) -> torch.Tensor:
            batch_size = x_data.size(0)
            x_data = F.relu(self.max_pooling(self.conv1(x_data)))
            x_data = self.incept1(x_data)
            x_data = F.relu(self.max_pooling(self.conv2(x_data)))
            x_data = self.incept2(x_data)
            x_data = x_data.view(batch_size, -1)
            return self.full_conn(x_data)

    return Net()


def residual_block(channels: int) -> Any:
    import torch
    import torch.nn.functional as F

    class ResidualBlock(torch.nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            self.channels = channels
            self.conv1 = torch.nn.Conv2d(channels, channels, kernel_size=3, padding=1)
            self.conv2 = torch.nn.Conv2d(channels, channels, kernel_size=3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = F.relu(self.conv1(x))
            y = self.conv2(y)
            return F.relu(x + y)

    return ResidualBlock(channels)
