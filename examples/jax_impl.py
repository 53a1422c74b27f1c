"""JAX (CPU) as an implementation under test: each op written with jax.numpy / jax.nn and
differentiated by jax.vjp.  gradproof verify --impl examples/jax_impl.py

Needs `pip install gradproof[jax]`.
"""

import jax
import jax.numpy as jnp

KIND = "jax"


def sigmoid(z):
    return jax.nn.sigmoid(z)


def tanh(z):
    return jnp.tanh(z)


def relu(z):
    return jax.nn.relu(z)


def leaky_relu(z, alpha):
    return jax.nn.leaky_relu(z, negative_slope=alpha)


def softmax(z):
    return jax.nn.softmax(z, axis=-1)


def mse(yhat, y):
    return jnp.mean((yhat - y) ** 2, axis=-1)


def softmax_cross_entropy(z, y):
    return -jnp.sum(y * jax.nn.log_softmax(z, axis=-1), axis=-1)


def binary_cross_entropy(z, y):
    # optax.sigmoid_binary_cross_entropy's formulation: -y log σ(z) - (1 - y) log σ(-z)
    return -y * jax.nn.log_sigmoid(z) - (1 - y) * jax.nn.log_sigmoid(-z)
