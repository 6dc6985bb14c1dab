"""streampath: the ops CLI for deployed StreamPath stacks (``streampath --help``)."""
