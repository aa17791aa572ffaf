return Clrp.Cli.CliApp.Run(args, Console.Out, Console.Error);
