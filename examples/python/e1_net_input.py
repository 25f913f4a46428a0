"""E1: the net input z = w * x + b of a scalar model, fed one value at a time
and then a whole vector, through the same graph (the textbook's TF1 code with
nncc in place of tf)."""
import nncc

g = nncc.Graph()
with g.as_default():
    x = nncc.placeholder(dtype=nncc.float32, shape=None, name="x")
    w = nncc.Variable(2.0, name="weight")
    b = nncc.Variable(0.7, name="bias")
    z = w * x + b
    init = nncc.global_variables_initializer()

with nncc.Session(graph=g) as sess:
    sess.run(init)
    for t in [1.0, 0.6, -1.8]:
        print("x=%4.1f --> z=%4.1f" % (t, sess.run(z, feed_dict={x: t})))
    print(sess.run(z, feed_dict={x: [1.0, 2.0, 3.0]}))
