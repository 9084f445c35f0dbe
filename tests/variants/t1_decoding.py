"""Typical mistakes and other correct answers of t1_decoding (see tests/variants/__init__.py)."""

from . import WHOLE, Variant

MISTAKES = [
    Variant(
        "no_relu",
        {
            "deep_net_relu": [
                (
                    '''class DeepNetReLU(nn.Module):
    """A fully connected network with one ReLU hidden layer."""

    def __init__(self, n_inputs, n_hidden, n_outputs=1):''',
                    """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):""",
                ),
                (
                    '''    def forward(self, r):
        """Responses (N, n_inputs) to outputs (N, n_outputs)."""
        return self.out_layer(torch.relu(self.in_layer(r)))''',
                    """    def forward(self, r):
        return self.out_layer(self.in_layer(r))
""",
                ),
            ],
        },
        frozenset(["test_net_forward"]),
        hint="apply torch.relu to the hidden layer",
    ),
    Variant(
        "relu_at_the_output_too",
        {
            "deep_net_relu": [
                (
                    '''class DeepNetReLU(nn.Module):
    """A fully connected network with one ReLU hidden layer."""

    def __init__(self, n_inputs, n_hidden, n_outputs=1):''',
                    """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):""",
                ),
                (
                    '''    def forward(self, r):
        """Responses (N, n_inputs) to outputs (N, n_outputs)."""
        return self.out_layer(torch.relu(self.in_layer(r)))''',
                    """    def forward(self, r):
        return torch.relu(self.out_layer(torch.relu(self.in_layer(r))))
""",
                ),
            ],
        },
        frozenset(["test_net_forward"]),
        hint="ReLU at the end too",
    ),
    Variant(
        "sigmoid_hidden",
        {
            "deep_net_relu": [
                (
                    '''class DeepNetReLU(nn.Module):
    """A fully connected network with one ReLU hidden layer."""

    def __init__(self, n_inputs, n_hidden, n_outputs=1):''',
                    """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):""",
                ),
                (
                    '''    def forward(self, r):
        """Responses (N, n_inputs) to outputs (N, n_outputs)."""
        return self.out_layer(torch.relu(self.in_layer(r)))''',
                    """    def forward(self, r):
        return self.out_layer(torch.sigmoid(self.in_layer(r)))
""",
                ),
            ],
        },
        frozenset(["test_net_forward"]),
        hint="uses a sigmoid",
    ),
    Variant(
        "mse_sums",
        {
            "mse": [
                (
                    WHOLE,
                    """def mse(y_pred, y_true):
    return ((y_pred - y_true) ** 2).sum()
""",
                ),
            ],
        },
        frozenset(["test_mse"]),
        hint="sum of the squared errors",
    ),
    Variant(
        "mse_absolute",
        {
            "mse": [
                (
                    WHOLE,
                    """def mse(y_pred, y_true):
    return (y_pred - y_true).abs().mean()
""",
                ),
            ],
        },
        frozenset(["test_mse"]),
        hint="mean absolute error",
    ),
    Variant(
        "train_without_zero_grad",
        {
            "train": [
                (
                    '''def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    """Full-batch gradient descent; returns the loss before each step, as a list of floats."""
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)''',
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)""",
                ),
                (
                    """    for _ in range(n_epochs):
        optimizer.zero_grad()
        loss = loss_fn(net(inputs), targets)""",
                    """    for _ in range(n_epochs):
        pass
        loss = loss_fn(net(inputs), targets)""",
                ),
                (
                    "    return losses",
                    """    return losses
""",
                ),
            ],
        },
        frozenset(["test_train_sgd"]),
        hint="call optimizer.zero_grad()",
    ),
    Variant(
        "train_without_step",
        {
            "train": [
                (
                    '''def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    """Full-batch gradient descent; returns the loss before each step, as a list of floats."""
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)''',
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)""",
                ),
                (
                    """        loss.backward()
        optimizer.step()
    return losses""",
                    """        loss.backward()
        pass
    return losses
""",
                ),
            ],
        },
        frozenset(["test_train_losses", "test_train_sgd"]),
        hint="weights did not improve",
    ),
    Variant(
        "train_records_loss_after_step",
        {
            "train": [
                (
                    '''def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    """Full-batch gradient descent; returns the loss before each step, as a list of floats."""
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)''',
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)""",
                ),
                (
                    """        loss = loss_fn(net(inputs), targets)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses""",
                    """        loss = loss_fn(net(inputs), targets)
        pass
        loss.backward()
        optimizer.step()
        losses.append(loss_fn(net(inputs), targets).item())
    return losses
""",
                ),
            ],
        },
        frozenset(["test_train_sgd"]),
        hint="losses after each step",
    ),
    Variant(
        "train_with_loss_arguments_swapped",
        {"train": [("loss = loss_fn(net(inputs), targets)", "loss = loss_fn(targets, net(inputs))")]},
        frozenset(["test_train_sgd"]),
        why="the same as the reference with a symmetric loss (MSE); the hidden test uses an asymmetric one",
        hint="take the prediction first",
        hidden=True,
    ),
    Variant(
        "train_with_adam",
        {
            "train": [
                (
                    '''def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    """Full-batch gradient descent; returns the loss before each step, as a list of floats."""
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)
    losses = []''',
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.Adam(net.parameters(), lr=learning_rate)
    losses = []""",
                ),
                (
                    "    return losses",
                    """    return losses
""",
                ),
            ],
        },
        frozenset(["test_train_sgd"]),
        hint="Adam's losses",
    ),
    Variant(
        "circular_without_wrap",
        {
            "circular_error": [
                (
                    WHOLE,
                    """def circular_error(pred, true, period=360.0):
    return (pred - true).abs()
""",
                ),
            ],
        },
        frozenset(["test_circular_error", "test_circular_error_period"]),
        hint="modulo the period",
    ),
    Variant(
        "circular_ignores_period",
        {
            "circular_error": [
                (
                    WHOLE,
                    """def circular_error(pred, true, period=360.0):
    diff = torch.remainder(pred - true, 360.0)
    return torch.minimum(diff, 360.0 - diff)
""",
                ),
            ],
        },
        frozenset(["test_circular_error_period"]),
        hint="period of 360",
    ),
    Variant(
        "forward_is_the_bias_of_a_zeroed_output_layer",
        {
            "deep_net_relu": [
                (
                    '''class DeepNetReLU(nn.Module):
    """A fully connected network with one ReLU hidden layer."""

    def __init__(self, n_inputs, n_hidden, n_outputs=1):''',
                    """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):""",
                ),
                (
                    '''        self.out_layer = nn.Linear(n_hidden, n_outputs)

    def forward(self, r):
        """Responses (N, n_inputs) to outputs (N, n_outputs)."""
        return self.out_layer(torch.relu(self.in_layer(r)))''',
                    """        self.out_layer = nn.Linear(n_hidden, n_outputs)
        nn.init.zeros_(self.out_layer.weight)

    def forward(self, r):
        return self.out_layer.bias.expand(len(r), -1)
""",
                ),
            ],
        },
        frozenset(["test_net_forward"]),
        "no forward computation: an expected value read back from the student's weights would agree",
        hint="Apply in_layer, then torch.relu, then out_layer",
    ),
]

CORRECT = [
    Variant(
        "net_with_functional_relu",
        {
            "deep_net_relu": [
                (
                    '''class DeepNetReLU(nn.Module):
    """A fully connected network with one ReLU hidden layer."""

    def __init__(self, n_inputs, n_hidden, n_outputs=1):''',
                    """class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_outputs=1):""",
                ),
                (
                    '''    def forward(self, r):
        """Responses (N, n_inputs) to outputs (N, n_outputs)."""
        return self.out_layer(torch.relu(self.in_layer(r)))''',
                    """    def forward(self, r):
        return self.out_layer(F.relu(self.in_layer(r)))
""",
                ),
            ],
        },
    ),
    Variant(
        "train_by_hand",
        {
            "train": [
                (
                    WHOLE,
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    losses = []
    for _ in range(n_epochs):
        loss = loss_fn(net(inputs), targets)
        losses.append(float(loss))
        grads = torch.autograd.grad(loss, list(net.parameters()))
        with torch.no_grad():
            for p, g in zip(net.parameters(), grads):
                p -= learning_rate * g
    return losses
""",
                ),
            ],
        },
    ),
    Variant(
        "zero_grad_after_step",
        {
            "train": [
                (
                    '''def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    """Full-batch gradient descent; returns the loss before each step, as a list of floats."""
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)''',
                    """def train(net, loss_fn, inputs, targets, n_epochs=100, learning_rate=1e-3):
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)""",
                ),
                (
                    """    for _ in range(n_epochs):
        optimizer.zero_grad()
        loss = loss_fn(net(inputs), targets)""",
                    """    for _ in range(n_epochs):
        pass
        loss = loss_fn(net(inputs), targets)""",
                ),
                (
                    """        optimizer.step()
    return losses""",
                    """        optimizer.step()
        optimizer.zero_grad()
    return losses
""",
                ),
            ],
        },
    ),
    Variant(
        "circular_by_shifting",
        {
            "circular_error": [
                (
                    WHOLE,
                    """def circular_error(pred, true, period=360.0):
    return (torch.remainder(pred - true + period / 2, period) - period / 2).abs()
""",
                ),
            ],
        },
    ),
]
