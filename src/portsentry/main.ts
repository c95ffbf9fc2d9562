export const main = async (_argv: string[]): Promise<number> => {
  process.stdout.write('usage: portsentry [-tcp -udp -stcp -atcp -sudp -audp]\n');
  return 255;
};
