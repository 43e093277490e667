from supportdesk.cli import main

raise SystemExit(main())
