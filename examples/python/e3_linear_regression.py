"""E3: ordinary least squares by gradient descent (the textbook's TfLinreg),
ten full-batch steps at learning rate 0.01, then the fitted line.
    python3 e3_linear_regression.py [--plots DIR]   (pictures with matplotlib)"""
import sys

import numpy as np

import nncc


class TfLinreg(object):
    def __init__(self, x_dim, learning_rate=0.01, random_seed=None):
        self.x_dim = x_dim
        self.learning_rate = learning_rate
        self.g = nncc.Graph()
        with self.g.as_default():
            nncc.set_random_seed(random_seed or 0)
            self.build()
            self.init_op = nncc.global_variables_initializer()

    def build(self):
        self.X = nncc.placeholder(dtype=nncc.float32, shape=(None, self.x_dim), name="x_input")
        # (None,) where the book has (None): nncc differentiates tensors of known rank.
        self.y = nncc.placeholder(dtype=nncc.float32, shape=(None,), name="y_input")
        w = nncc.Variable(nncc.zeros(shape=(1)), name="weight")
        b = nncc.Variable(nncc.zeros(shape=(1)), name="bias")
        self.z_net = nncc.squeeze(w * self.X + b, axis=1, name="z_net")
        sqr_errors = nncc.square(self.y - self.z_net, name="sqr_errors")
        self.mean_cost = nncc.reduce_mean(sqr_errors, name="mean_cost")
        optimizer = nncc.train.GradientDescentOptimizer(learning_rate=self.learning_rate,
                                                        name="GradientDescent")
        self.optimizer = optimizer.minimize(self.mean_cost)


def train_linreg(sess, model, X_train, y_train, num_epochs=10):
    sess.run(model.init_op)
    training_costs = []
    for i in range(num_epochs):
        _, cost = sess.run([model.optimizer, model.mean_cost],
                           feed_dict={model.X: X_train, model.y: y_train})
        training_costs.append(cost)
    return training_costs


def predict_linreg(sess, model, X_test):
    return sess.run(model.z_net, feed_dict={model.X: X_test})


X_train = np.arange(10).reshape((10, 1))
y_train = np.array([1.0, 1.3, 3.1, 2.0, 5.0, 6.3, 6.6, 7.4, 8.0, 9.0])

lrmodel = TfLinreg(x_dim=X_train.shape[1], learning_rate=0.01)
sess = nncc.Session(graph=lrmodel.g)
training_costs = train_linreg(sess, lrmodel, X_train, y_train)
for epoch, cost in enumerate(training_costs, 1):
    print("epoch %2d: cost %.8g" % (epoch, cost))
print("weight %.8g, bias %.8g" % (sess.variable("weight")[0], sess.variable("bias")[0]))
y_pred = predict_linreg(sess, lrmodel, X_train)
print("predictions:", " ".join("%.7g" % v for v in y_pred))

if "--plots" in sys.argv:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = sys.argv[sys.argv.index("--plots") + 1]
    plt.plot(range(1, len(training_costs) + 1), training_costs)
    plt.tight_layout()
    plt.xlabel("Epoch")
    plt.ylabel("Training Cost")
    plt.savefig(out + "/e3_cost.png")
    plt.figure()
    plt.scatter(X_train, y_train, marker="s", s=50, label="Training Data")
    plt.plot(range(X_train.shape[0]), y_pred, color="gray", marker="o", markersize=6,
             linewidth=3, label="LinReg Model")
    plt.xlabel("x")
    plt.ylabel("y")
    plt.legend()
    plt.tight_layout()
    plt.savefig(out + "/e3_fit.png")
    print("wrote %s/e3_cost.png and %s/e3_fit.png" % (out, out))
