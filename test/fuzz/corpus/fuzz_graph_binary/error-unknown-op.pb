

x
"
z
frobnicatex*
predictxz