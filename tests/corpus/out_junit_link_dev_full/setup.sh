ln -s /dev/full out.xml
