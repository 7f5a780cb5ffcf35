"""solutions/backprop.py against PyTorch's autograd (as micrograd's tests do).

Runs where PyTorch is installed; the course does not need it, so elsewhere the
module is skipped. Everything in float64.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the autograd cross-check is optional "
                                            "(pip install torch to run it)")

from solutions import backprop as bp  # noqa: E402

ACTIVATIONS = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, negative_slope=0.01),
    "sigmoid": torch.sigmoid,
}


def tensor(array):
    return torch.tensor(np.asarray(array, dtype=np.float64), dtype=torch.float64, requires_grad=True)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("n_x, n_h, n_y, m", [(2, 3, 1, 4), (3, 4, 1, 1), (4, 6, 1, 10), (3, 5, 2, 7)])
def test_backward_agrees_with_autograd(activation, n_x, n_h, n_y, m):
    rng = np.random.default_rng([n_x, n_h, n_y, m, len(activation)])
    X = rng.normal(0, 1, (n_x, m))
    Y = (rng.random((n_y, m)) < 0.5).astype(np.float64)
    params = {"W1": rng.normal(0, 0.8, (n_h, n_x)), "b1": rng.normal(0, 0.8, (n_h, 1)),
              "W2": rng.normal(0, 0.8, (n_y, n_h)), "b2": rng.normal(0, 0.8, (n_y, 1))}

    leaves = {k: tensor(v) for k, v in params.items()}
    Z1 = leaves["W1"] @ torch.tensor(X) + leaves["b1"]
    assert float(Z1.detach().abs().min()) > 1e-6  # no entry on relu's kink
    A2 = torch.sigmoid(leaves["W2"] @ ACTIVATIONS[activation](Z1) + leaves["b2"])
    # the course's cost: summed over the outputs, averaged over the m samples (columns)
    cost = torch.nn.functional.binary_cross_entropy(A2, torch.tensor(Y), reduction="sum") / m
    cost.backward()

    _, cache = bp.forward(X, params, activation)
    assert bp.compute_cost(cache["A2"], Y) == pytest.approx(cost.item(), rel=1e-10)
    grads = bp.backward(X, Y, params, cache, hidden_activation=activation)
    for name, leaf in leaves.items():
        assert grads["d" + name].shape == params[name].shape
        np.testing.assert_allclose(grads["d" + name], leaf.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


def test_graph_grads_agree_with_autograd():
    # seed 003's own PyTorch cell: a, b, c = 3, 2, 5 gives J = 22 and gradients 4, 6, 2
    a, b, c = (tensor(v) for v in (3.0, 2.0, 5.0))
    J = 2 * (a * b + c)
    J.backward()
    assert bp.graph_grads(3.0, 2.0, 5.0) == (J.item(), a.grad.item(), b.grad.item(), c.grad.item())


def test_seed_003_layers_agree_with_autograd():
    # seed 003's nn.Linear(3, 4) + ReLU + nn.Linear(4, 2) with zero weights + Sigmoid, upstream gradient 0.5
    W1 = tensor(np.arange(1.0, 13.0).reshape(4, 3))
    b1 = tensor(np.zeros((4, 1)))
    W2, b2 = tensor(np.zeros((2, 4))), tensor(np.zeros((2, 1)))
    x = tensor([[1.0], [2.0], [3.0]])
    a1 = torch.relu(W1 @ x + b1)
    z2 = W2 @ a1 + b2
    z2.retain_grad()
    torch.sigmoid(z2).backward(gradient=torch.full((2, 1), 0.5, dtype=torch.float64))

    dZ2 = bp.sigmoid_backward(np.full((2, 1), 0.5), z2.detach().numpy())
    np.testing.assert_allclose(dZ2, z2.grad.numpy())
    dW2, db2, dA1 = bp.linear_backward(dZ2, a1.detach().numpy(), W2.detach().numpy())
    np.testing.assert_allclose(dW2, W2.grad.numpy())
    np.testing.assert_allclose(db2, b2.grad.numpy())

    # layer 1 alone, with the upstream gradient 0.5 on all four units of a1
    x1 = tensor([[1.0], [2.0], [3.0]])
    W1b = tensor(np.arange(1.0, 13.0).reshape(4, 3))
    torch.relu(W1b @ x1).backward(gradient=torch.full((4, 1), 0.5, dtype=torch.float64))
    dW1, db1, dx = bp.linear_backward(np.full((4, 1), 0.5), x1.detach().numpy(), W1b.detach().numpy())
    np.testing.assert_allclose(dx, x1.grad.numpy())
    np.testing.assert_allclose(dW1, W1b.grad.numpy())


@pytest.mark.parametrize("n, p, m", [(3, 2, 4), (1, 4, 1), (2, 5, 3)])
def test_linear_backward_agrees_with_autograd(n, p, m):
    rng = np.random.default_rng(n + 10 * p + 100 * m)
    dZ, A, W, b = rng.normal(0, 1, (n, m)), rng.normal(0, 1, (p, m)), rng.normal(0, 1, (n, p)), rng.normal(0, 1, (n, 1))
    At, Wt, bt = tensor(A), tensor(W), tensor(b)
    # the mean over the batch of the per-sample loss whose gradient at Z is dZ
    (torch.sum(torch.tensor(dZ) * (Wt @ At + bt)) / m).backward()
    dW, db, dA = bp.linear_backward(dZ, A, W)
    np.testing.assert_allclose(dW, Wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dA, m * At.grad.numpy(), rtol=1e-12)  # dA_prev is per sample: no 1/m
