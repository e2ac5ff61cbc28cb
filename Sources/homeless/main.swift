import HomelessCommands

HomelessCommand.main()
