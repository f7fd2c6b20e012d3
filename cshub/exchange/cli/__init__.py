"""The subcommands of `cshub exchange` (cshub/exchange/management/commands/exchange.py), one module each.

A subcommand module has `HELP` (one line), `add_arguments(parser)` and `handle(command, options)`; it parses,
calls a service, prints. Register it in `SUBCOMMANDS` of the command.
"""
