import NetInfo from '@react-native-community/netinfo';

/** Whether the phone can reach the network, and when that changes. */
export interface Connectivity {
  isOnline(): Promise<boolean>;
  subscribe(listener: (online: boolean) => void): () => void;
}

/** Connectivity from the operating system (NetInfo). */
export const deviceConnectivity: Connectivity = {
  async isOnline() {
    const state = await NetInfo.fetch();
    return state.isConnected === true && state.isInternetReachable !== false;
  },
  subscribe(listener) {
    return NetInfo.addEventListener((state) =>
      listener(state.isConnected === true && state.isInternetReachable !== false),
    );
  },
};
