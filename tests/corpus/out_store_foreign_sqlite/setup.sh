python3 -c "import sqlite3; sqlite3.connect(\"other.db\").execute(\"CREATE TABLE runs(x TEXT)\")"
