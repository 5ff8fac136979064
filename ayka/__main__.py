from ayka.cli import main

raise SystemExit(main())
