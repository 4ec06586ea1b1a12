: > store.db && ln -s /dev/full page.html
