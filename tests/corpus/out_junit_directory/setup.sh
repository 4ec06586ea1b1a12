mkdir xmldir
