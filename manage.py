#!/usr/bin/env python
from cshub.cli import main

main()
