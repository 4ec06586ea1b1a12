mkdir xmldir && ln -s xmldir out.xml
