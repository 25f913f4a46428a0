"""Keras-style models over nncc's Sequential (compiler/frontend/Keras.h):

    model = nncc.keras.Sequential([
        nncc.keras.layers.Dense(50, input_dim=784, activation="tanh"),
        nncc.keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=nncc.keras.optimizers.SGD(lr=0.001, momentum=0.9),
                  loss="categorical_crossentropy")
    history = model.fit(X, nncc.keras.utils.to_categorical(y), batch_size=64, epochs=50)
"""
from . import layers, optimizers, utils
from .models import History, Sequential

__all__ = ["Sequential", "History", "layers", "optimizers", "utils"]
