

x
"
aaddxc"
btanha"
crelub"
selfmulselfx*	
fxc*
gxself