mkdir res && ln -s /dev/zero res/journal.bpj
