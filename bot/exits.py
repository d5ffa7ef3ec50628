"""The exit codes of the `digitbot` command, so a supervisor can tell a setting to fix from a crash.

0   done, or stopped by SIGTERM or Ctrl-C
1   failed (a crash, or `predict` could not read a file)
2   bad settings or input: the message names the setting or the file
78  Telegram rejected the bot token, or the webhook (EX_CONFIG in sysexits.h): restarting will not
    help until TELEGRAM_BOT_TOKEN (or WEBHOOK_URL) is fixed
"""

from __future__ import annotations

EXIT_SETTINGS = 2
EXIT_CONFIG = 78
