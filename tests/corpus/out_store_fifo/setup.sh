mkfifo store.db
