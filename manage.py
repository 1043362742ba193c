#!/usr/bin/env python
from wuye.cli import main

if __name__ == "__main__":
    main()
