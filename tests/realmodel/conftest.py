"""One torch thread per test process: the suite runs under pytest-xdist on 2 shared cores."""

import torch

torch.set_num_threads(1)
