"""Modules shared by the oracle scripts (tools/oracle/*/): put tools/oracle on sys.path,
then `from common import weights`."""
