from tools.cli.app import main

main()
