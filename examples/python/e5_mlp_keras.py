"""E5: the same MLP Keras-style: Sequential Dense(50, tanh, input_dim 784),
Dense(50, tanh), Dense(10, softmax); SGD(lr 0.001, decay 1e-7, momentum
0.9); categorical cross-entropy; fit(batch 64, validation_split 0.1).
    python3 e5_mlp_keras.py [--epochs 50] [--data DIR] [--seed 123]"""
import argparse

import numpy as np

import nncc
from nncc import keras

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--seed", type=int, default=123)
args = parser.parse_args()

(X_train_centered, y_train), (X_test_centered, y_test) = nncc.data.read_mnist(args.data)
y_train_onehot = keras.utils.to_categorical(y_train)
print("First 3 labels: ", y_train[:3])

model = keras.Sequential(seed=args.seed)
model.add(keras.layers.Dense(units=50, input_dim=X_train_centered.shape[1],
                             kernel_initializer="glorot_uniform", bias_initializer="zeros",
                             activation="tanh"))
model.add(keras.layers.Dense(units=50, kernel_initializer="glorot_uniform",
                             bias_initializer="zeros", activation="tanh"))
model.add(keras.layers.Dense(units=y_train_onehot.shape[1], kernel_initializer="glorot_uniform",
                             bias_initializer="zeros", activation="softmax"))
sgd_optimizer = keras.optimizers.SGD(lr=0.001, decay=1e-7, momentum=0.9)
model.compile(optimizer=sgd_optimizer, loss="categorical_crossentropy")

history = model.fit(X_train_centered, y_train_onehot, batch_size=64, epochs=args.epochs,
                    verbose=1, validation_split=0.1)

y_train_pred = model.predict_classes(X_train_centered, batch_size=1024)
print("First 3 predictions: ", y_train_pred[:3])
train_acc = np.sum(y_train == y_train_pred, axis=0) / X_train_centered.shape[0]
print("Training accuracy: %.2f%%" % (train_acc * 100))
y_test_pred = model.predict_classes(X_test_centered, batch_size=1024)
test_acc = np.sum(y_test == y_test_pred, axis=0) / X_test_centered.shape[0]
print("Test accuracy: %.2f%%" % (test_acc * 100))
