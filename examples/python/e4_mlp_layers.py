"""E4: the textbook's multilayer perceptron with the layers API, trained by
plain gradient descent on Fashion-MNIST (784-50-50-10 tanh, lr 0.001,
batches of 64 reshuffled every epoch by the runtime's seeded iterator, the
same batches as the C++ example's).
    python3 e4_mlp_layers.py [--epochs 50] [--data DIR] [--seed 123]"""
import argparse

import numpy as np

import nncc

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=50)
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
parser.add_argument("--seed", type=int, default=123)
args = parser.parse_args()

(X_train_centered, y_train), (X_test_centered, y_test) = nncc.data.read_mnist(args.data)
print("Rows: %d, columns: %d" % X_train_centered.shape)

n_features = X_train_centered.shape[1]
n_classes = 10
random_seed = args.seed
g = nncc.Graph()
with g.as_default():
    nncc.set_random_seed(random_seed)
    tf_x = nncc.placeholder(dtype=nncc.float32, shape=(None, n_features), name="tf_x")
    tf_y = nncc.placeholder(dtype=nncc.int32, shape=(None,), name="tf_y")
    y_onehot = nncc.one_hot(indices=tf_y, depth=n_classes, name="y_onehot")
    h1 = nncc.layers.dense(inputs=tf_x, units=50, activation=nncc.tanh, name="layer1")
    h2 = nncc.layers.dense(inputs=h1, units=50, activation=nncc.tanh, name="layer2")
    logits = nncc.layers.dense(inputs=h2, units=10, activation=None, name="layer3")
    predictions = {
        "classes": nncc.argmax(logits, axis=1, name="predicted_classes"),
        "probabilities": nncc.nn.softmax(logits, name="softmax_tensor"),
    }
    cost = nncc.losses.softmax_cross_entropy(onehot_labels=y_onehot, logits=logits, name="cost")
    optimizer = nncc.train.GradientDescentOptimizer(learning_rate=0.001)
    train_op = optimizer.minimize(loss=cost)
    init_op = nncc.global_variables_initializer()

sess = nncc.Session(graph=g)
sess.run(init_op)
batches = nncc.data.BatchIterator(X_train_centered, y_train, batch_size=64, seed=random_seed)
for epoch in range(args.epochs):
    training_costs = []
    batches.start_epoch()
    batch = batches.next()
    while batch is not None:
        batch_X, batch_y = batch
        _, batch_cost = sess.run([train_op, cost], feed_dict={tf_x: batch_X, tf_y: batch_y})
        training_costs.append(float(batch_cost))
        batch = batches.next()
    print(" -- Epoch %2d  Avg. Training Loss: %.4f" %
          (epoch + 1, sum(training_costs) / len(training_costs)))

y_pred = sess.run(predictions["classes"], feed_dict={tf_x: X_test_centered})
print("Test Accuracy: %.2f%%" % (100 * np.sum(y_pred == y_test) / y_test.shape[0]))
