return Clrp.Cluster.Commands.ClusterApp.Run(args, Console.Out, Console.Error);
