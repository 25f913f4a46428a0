
x
ÿÿÿÿÿÿÿÿÿ

w2"
layer1matmulxweights*
predictxlayer1