"""E6: activation functions: a logistic unit's P(y=1|x), a layer's net input
with logistic, argmax and softmax, and the tanh / logistic / ReLU curves,
computed by a compiled nncc graph in float64 (as NumPy computes the book's
digits).
    python3 e6_activations.py [--plots DIR]   (the curves with matplotlib)"""
import sys

import numpy as np

import nncc

g = nncc.Graph()
with g.as_default():
    X = nncc.placeholder(nncc.float64, shape=(1, 3), name="X")
    w = nncc.placeholder(nncc.float64, shape=(3, 1), name="w")
    p_y1 = nncc.sigmoid(nncc.matmul(X, w), name="p_y1")

    W = nncc.placeholder(nncc.float64, shape=(3, 4), name="W")
    A = nncc.placeholder(nncc.float64, shape=(4, 1), name="A")
    Z = nncc.reshape(W @ A, (-1,), name="Z")
    logistic_Z = nncc.sigmoid(Z, name="logistic_Z")
    argmax_Z = nncc.argmax(Z, axis=0, name="argmax_Z")
    softmax_Z = nncc.softmax(Z, axis=0, name="softmax_Z")

    z = nncc.placeholder(nncc.float64, shape=(None,), name="z")
    tanh_z = nncc.tanh(z, name="tanh_z")
    logistic_z = nncc.sigmoid(z, name="logistic_z")
    relu_z = nncc.relu(z, name="relu_z")

sess = nncc.Session(g)
print("P(y=1|x) = %.3f" % sess.run(p_y1, feed_dict={X: [[1, 1.4, 2.5]], w: [[0.4], [0.3], [0.5]]})[0, 0])

layer = {W: np.array([[1.1, 1.2, 0.8, 0.4], [0.2, 0.4, 1.0, 0.2], [0.6, 1.5, 1.2, 0.7]]),
         A: np.array([[1, 0.1, 0.4, 0.6]]).T}
net, probas, label, soft = sess.run([Z, logistic_Z, argmax_Z, softmax_Z], feed_dict=layer)
print("Net Input: \n", net)
print("Output Units:\n", probas)
print("Predicted class label: %d" % label)
print("Probabilities:\n", soft)
print("sum: %.6f" % np.sum(soft))

zs = np.arange(-5, 5, 0.005)
curves = sess.run({"tanh": tanh_z, "logistic": logistic_z, "relu": relu_z}, feed_dict={z: zs})
print("tanh:", curves["tanh"][:3], "...", curves["tanh"][-3:])
print("logistic:", curves["logistic"][:3], "...", curves["logistic"][-3:])
print("relu at z = -1, 0, 1:", curves["relu"][[800, 1000, 1200]])

if "--plots" in sys.argv:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = sys.argv[sys.argv.index("--plots") + 1]
    plt.ylim([-1.5, 1.5])
    plt.xlabel("net input $z$")
    plt.ylabel("activation $\\phi(z)$")
    plt.axhline(1, color="black", linestyle=":")
    plt.axhline(0.5, color="black", linestyle=":")
    plt.axhline(0, color="black", linestyle=":")
    plt.axhline(-0.5, color="black", linestyle=":")
    plt.axhline(-1, color="black", linestyle=":")
    plt.plot(zs, curves["tanh"], linewidth=3, linestyle="--", label="tanh")
    plt.plot(zs, curves["logistic"], linewidth=3, label="logistic")
    plt.plot(zs[zs <= 1], curves["relu"][zs <= 1], linewidth=2, label="ReLU")
    plt.legend(loc="lower right")
    plt.tight_layout()
    plt.savefig(out + "/e6_activations.png")
    print("wrote %s/e6_activations.png" % out)
