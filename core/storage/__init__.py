"""What the app keeps: the SQLite database (`db`), locks and crash-safe writes (`locking`), saved
conversations, staff accounts (`auth`), the audit log and backup/restore."""
