mkdir res && mkfifo res/journal.bpj
