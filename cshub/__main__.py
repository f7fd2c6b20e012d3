from cshub.cli import main

main()
