"""E2: reshape a (None, 2, 3) batch to (-1, 6), then column sums and means."""
import numpy as np

import nncc

g = nncc.Graph()
with g.as_default():
    x = nncc.placeholder(dtype=nncc.float32, shape=(None, 2, 3), name="input_x")
    x2 = nncc.reshape(x, shape=(-1, 6), name="x2")
    xsum = nncc.reduce_sum(x2, axis=0, name="col_sum")
    xmean = nncc.reduce_mean(x2, axis=0, name="col_mean")

with nncc.Session(graph=g) as sess:
    x_array = np.arange(18).reshape(3, 2, 3)
    print("input shape: ", x_array.shape)
    print("Reshaped:\n", sess.run(x2, feed_dict={x: x_array}))
    print("Column Sums:\n", sess.run(xsum, feed_dict={x: x_array}))
    print("Column Means:\n", sess.run(xmean, feed_dict={x: x_array}))
