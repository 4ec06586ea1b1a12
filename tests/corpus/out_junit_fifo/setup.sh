mkfifo out.xml && (timeout 20 cat out.xml > /dev/null &)
