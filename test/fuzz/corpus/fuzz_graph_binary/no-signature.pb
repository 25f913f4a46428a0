

x
"
ztanhx